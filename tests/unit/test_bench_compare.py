"""The before/after comparison reads the load bench's table as it prints it."""

from __future__ import annotations

from infra.bench_compare import highest_sustained, mean_cpu, parse_steps

OUTPUT = """
                Sustained load through HTTP ingest, every consumer running (20 s per step)
┏━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━┓
┃ offered/s ┃ ingested/s ┃ errors ┃  detected ┃ backlog cleared after ┃ p50 s ┃ p95 s ┃ p99 s ┃ CPU ms/tx ┃ sustained ┃
┡━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━┩
│       350 │        345 │      0 │ 6962/6962 │                 0.8 s │  0.28 │  0.49 │  0.75 │      2.41 │       yes │
│       400 │        394 │      0 │ 7949/7949 │                 1.4 s │  0.99 │  1.66 │  1.76 │      2.50 │       yes │
│       450 │        424 │      0 │ 8772/8772 │                 3.0 s │  3.14 │  4.49 │  4.83 │      2.62 │        no │
└───────────┴────────────┴────────┴───────────┴───────────────────────┴───────┴───────┴───────┴───────────┴───────────┘
    highest sustained rate 394/s; target 300/s (ratio 1.31); p95 there 1.66 s, target 1 s (ratio 1.66)
"""


def test_the_steps_rates_and_cpu_are_read_from_the_table():
    steps = parse_steps(OUTPUT)
    assert [(s.offered, s.ingested, s.p95, s.cpu_ms_per_tx, s.sustained) for s in steps] == [
        (350, 345, 0.49, 2.41, True),
        (400, 394, 1.66, 2.50, True),
        (450, 424, 4.49, 2.62, False),
    ]
    assert highest_sustained(steps) == 394
    assert round(mean_cpu(steps), 4) == round((2.41 + 2.50 + 2.62) / 3, 4)


def test_a_table_without_the_cpu_column_still_gives_the_rates():
    old = "\n".join(
        line.replace("│      2.41 ", "").replace("│      2.50 ", "").replace("│      2.62 ", "")
        for line in OUTPUT.splitlines()
    )
    steps = parse_steps(old)
    assert [s.cpu_ms_per_tx for s in steps] == [None, None, None] and highest_sustained(steps) == 394
    assert mean_cpu(steps) is None and highest_sustained([]) == 0
