"""The anchor of loadtest/web_audit.py: a bare Streamlit app (a line of text, an input, a button), served as
Streamlit serves any app, so Parlor's page is measured against what Streamlit itself costs."""

import streamlit as st

st.write("Hello")
st.text_input("Your name")
st.button("Go")
