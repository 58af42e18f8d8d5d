"""Where the project's shipped files live: assets, default config, fonts, locale catalogs."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
CONFIG_DIR = PROJECT_ROOT / "config"
DEFAULT_CONFIG_FILE = CONFIG_DIR / "kiosk.toml"
FONTS_DIR = ASSETS_DIR / "fonts"
LOCALE_DIR = ASSETS_DIR / "locale"
SAMPLES_DIR = ASSETS_DIR / "samples"

FONT_REGULAR = FONTS_DIR / "Roboto-Regular.ttf"
FONT_BOLD = FONTS_DIR / "Roboto-Bold.ttf"
FONT_OCRB = FONTS_DIR / "OCRB.otf"  # the MRZ font (ICAO 9303), for the MRZ reader's templates
