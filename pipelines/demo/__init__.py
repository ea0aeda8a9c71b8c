"""The demo: the main job on embedded defaults, its people, its case and its assessment."""
