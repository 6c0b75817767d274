"""A rule's backtest: the stored transactions of a period replayed through detection's offline path, each
judged by the rule as it would have been judged then, and counted against the shop's labels and alerts."""
