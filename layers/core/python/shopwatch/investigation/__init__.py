"""What an analyst looks at around one thing: an entity's page (its history, links, transactions and alerts)."""
