"""The sales-coaching review: one report per sales rep per week, to the rep (design §9, §10)."""
