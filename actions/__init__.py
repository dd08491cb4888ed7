"""Rasa SDK custom actions. Thin: each calls a service in bot/ and formats the answer.
The action server imports only rasa_sdk and bot.services/bot.storage — never rasa."""
