"""Policy questions and answers: curated data, normalisation, index and search. No aiogram here."""
