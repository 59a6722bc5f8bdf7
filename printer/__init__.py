"""Ticket layout (Pillow raster) and ESC/POS output through python-escpos."""
