"""The queue: tickets, counters, the calling policy, the display board and the voice.

store.py        tickets and counters in SQLite: issue, call, recall, skip, transfer, complete
policy.py       which ticket a counter calls next (priority 3:1, bounded waits), estimates
config.py       config/queue.toml: counters, services, priority classes, policy, board, voice
board.py        the display board and the counters' endpoints over local HTTP
counter_page.py the counter terminal page staff use to call and serve
voice.py        "Mời số … đến quầy số …" spoken with espeak-ng
"""
