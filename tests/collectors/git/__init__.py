"""Tests of the git collector, against real repositories made with the real git binary."""
