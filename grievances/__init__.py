"""Grievance cases: lifecycle, routing, deadlines, escalation and statistics. No aiogram here."""
