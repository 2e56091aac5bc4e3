"""Report kinds: each a folder (its facts, verdict, sections, guard scope) plus one registration."""
