"""The Streamlit pages: the only part of the package that imports streamlit."""
