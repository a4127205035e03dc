"""The run report (report@1): its model, the details shown to people, and the HTML view.
Imports domain/ and text/.
"""
