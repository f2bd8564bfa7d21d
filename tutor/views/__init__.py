"""Views: Rich renderables drawn from a run's state.

Shared by the Textual widgets and the headless snapshots, so what a snapshot shows is
what the learner sees. No Textual here; `chart` is the only module that imports plotext.
"""
