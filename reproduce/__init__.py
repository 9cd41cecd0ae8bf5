"""The experiments and their measurement: recipes and their runner, evaluations, the toy
study, the results page, the reference trajectories and the command that records them.
What they publish (the page, figures, kept evaluations, toy studies) is in
reproduce/published/; docs/layout.md lists every module."""
