"""Dose check-in scheduling: pure planning of when each dose's check-in goes out."""
