"""The day's summary sent to commanders' channels at the time each chooses."""
