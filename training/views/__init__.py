"""Training's pages: the learner's (`learner`), the manager's team (`team`) and HQ's (`hq`)."""
