"""Rules as data: analysts' CEL rules and block/allow lists, evaluated at ingest (a decision for the checkout) and
in DetectFunction (alerts, risk, shadow statistics), backtested on stored history."""
