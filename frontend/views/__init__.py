"""Streamlit views of Parlor: landing, lobby, game, game over; each takes the room state and acts via the API."""
