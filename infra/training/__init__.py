"""Training off Lambda: pandas loading and cleaning, scikit-learn fitting, export to the model layer."""
