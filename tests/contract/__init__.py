"""The issue-3 contract suite: canonical conversations through every dialect pair."""
