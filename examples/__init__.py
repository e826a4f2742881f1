"""The shipped examples, installed as package data (harness.examples): the help-desk tickets with their
planted defects and truth.json, used by `harness demo`."""

from pathlib import Path

TICKETS = Path(__file__).resolve().with_name("tickets")
