"""The Textual interface: app, screens and widgets. It draws through tutor.views and holds no maths."""
