"""Herd-count maps: data in, folium.Map (or HTML) out. No database, no HTTP."""
