"""Blog experiments as recipes, their recorded reference loss trajectories, and
the commands that regenerate them (see reproduce/README.md)."""
