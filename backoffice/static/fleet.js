/* Trang ki-ốt: refresh the fleet table without reloading the page.
 *
 * Every data-refresh-s seconds (5 by default) fetch the table's data-source
 * (/staff/kiosks.json, same session cookie) and, for each kiosk, swap the cells whose
 * HTML changed. The server renders each row with the same template as the page
 * (templates/fleet_row.html), so there is one way to draw a row; the command form is
 * left alone so a choice in progress is kept. No framework, nothing from another site.
 */
(function () {
  "use strict";

  var table = document.getElementById("fleet");
  if (!table) {
    return;
  }
  var tbody = table.tBodies[0];
  var source = table.getAttribute("data-source");
  var refreshMs = Math.max(1, parseInt(table.getAttribute("data-refresh-s"), 10) || 5) * 1000;
  var status = document.getElementById("fleet-updated");
  var counts = document.getElementById("fleet-counts");
  var onlyAlerts = document.getElementById("only-alerts");
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
  var KEEP = "command"; // the cell staff type into: never swapped

  function rowsOf(node) {
    return Array.prototype.slice.call(node.querySelectorAll("tr[data-kiosk]"));
  }

  function cellsOf(row) {
    var cells = {};
    Array.prototype.forEach.call(row.children, function (cell) {
      cells[cell.getAttribute("data-cell")] = cell;
    });
    return cells;
  }

  // What each cell was drawn from, serialized by the browser itself, so that the same HTML
  // compares equal however the server spaced it (and a cell the script changed afterwards,
  // such as a screenshot that is not there, is not redrawn for nothing).
  function remember(row) {
    Array.prototype.forEach.call(row.children, function (cell) {
      cell.fleetSource = cell.innerHTML;
    });
  }

  function parseRow(html) {
    var template = document.createElement("template");
    template.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    return template.content.querySelector("tr[data-kiosk]");
  }

  function update(row, fresh) {
    ["class", "data-level", "data-alerts"].forEach(function (name) {
      var value = fresh.getAttribute(name);
      if (row.getAttribute(name) !== value) {
        row.setAttribute(name, value);
      }
    });
    var now = cellsOf(row);
    Array.prototype.forEach.call(fresh.children, function (cell) {
      var name = cell.getAttribute("data-cell");
      var old = now[name];
      if (!old) {
        row.appendChild(cell.cloneNode(true));
      } else if (name !== KEEP && old.fleetSource !== cell.innerHTML) {
        var copy = cell.cloneNode(true);
        copy.fleetSource = cell.innerHTML;
        row.replaceChild(copy, old);
        watchShots(copy);
      }
    });
  }

  function apply(data) {
    var existing = {};
    rowsOf(tbody).forEach(function (row) {
      existing[row.getAttribute("data-kiosk")] = row;
    });
    var previous = null;
    data.kiosks.forEach(function (kiosk) {
      var fresh = parseRow(kiosk.html);
      if (!fresh) {
        return;
      }
      var row = existing[kiosk.id];
      if (row) {
        update(row, fresh);
        delete existing[kiosk.id];
      } else {
        row = document.importNode(fresh, true);
        remember(row);
        watchShots(row);
      }
      var wanted = previous ? previous.nextSibling : tbody.firstChild;
      if (row !== wanted) {
        tbody.insertBefore(row, wanted); // new, or the order changed
      }
      previous = row;
    });
    Object.keys(existing).forEach(function (id) {
      existing[id].remove(); // a kiosk removed since
    });
    var empty = tbody.querySelector("tr.empty");
    if (empty) {
      empty.hidden = data.kiosks.length > 0;
    }
    showCounts(data);
  }

  function showCounts(data) {
    var alerting = data.counts.critical + data.counts.warning;
    if (counts) {
      counts.firstElementChild.textContent = data.kiosks.length + " ki-ốt";
      ["critical", "warning", "ok"].forEach(function (level) {
        var node = counts.querySelector('[data-count="' + level + '"]');
        if (node) {
          node.textContent = String(data.counts[level] || 0);
        }
      });
    }
    document.title = (alerting ? "(" + alerting + ") " : "") + baseTitle;
    say("Cập nhật lúc " + data.updated, false);
  }

  function say(text, isError) {
    if (status) {
      status.textContent = text;
      status.classList.toggle("error", isError);
    }
  }

  function clock() {
    var d = new Date();
    return [d.getHours(), d.getMinutes(), d.getSeconds()]
      .map(function (n) {
        return (n < 10 ? "0" : "") + n;
      })
      .join(":");
  }

  // A screenshot that is not there (none taken yet): say so in words instead of a broken image.
  function noShot(img) {
    var link = img.closest("a") || img;
    var text = document.createElement("span");
    text.className = "muted";
    text.textContent = "Chưa có ảnh";
    link.replaceWith(text);
  }

  function watchShots(node) {
    Array.prototype.forEach.call(node.querySelectorAll("img.shot"), function (img) {
      if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
        noShot(img);
      } else {
        img.addEventListener("error", function () {
          noShot(img);
        });
      }
    });
  }

  function refresh() {
    fetch(source, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (answer.status === 401) {
          return answer.json().then(function (body) {
            throw new Error(body.message_vi || "Phiên làm việc đã hết hạn.");
          });
        }
        if (!answer.ok) {
          throw new Error("máy chủ trả lời " + answer.status);
        }
        return answer.json();
      })
      .then(apply)
      .catch(function (error) {
        say("Không cập nhật được lúc " + clock() + " (" + error.message + "); đang thử lại.", true);
      })
      .then(function () {
        window.setTimeout(refresh, refreshMs);
      });
  }

  if (onlyAlerts) {
    onlyAlerts.addEventListener("change", function () {
      table.classList.toggle("only-alerts", onlyAlerts.checked);
    });
  }
  rowsOf(tbody).forEach(function (row) {
    remember(row);
    watchShots(row);
  });
  table.setAttribute("data-live", "on");
  window.setTimeout(refresh, refreshMs);
})();
