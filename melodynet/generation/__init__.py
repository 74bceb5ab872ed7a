"""Generation: primers, compiled prediction loops, sampling."""
