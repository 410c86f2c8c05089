"""The documentation site's build code: MkDocs hooks and the pages generated from the code (see mkdocs.yml)."""
