"""Safety and anonymity: export, account deletion, pseudonym change, muting, content
warnings set by moderators, and the moderators' second factor."""
