"""Everything that runs off Lambda: the local stack, the CLI, tools that read template.yaml."""
