"""Discord glue: each module or package here is an extension the bot loads at start-up."""
