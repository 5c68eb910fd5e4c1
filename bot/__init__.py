"""Assembly of the Huhuqing bot: configuration, command line, dispatcher and runners."""
