"""The executive business review (EBR): one report per customer, to its CSM."""
