"""Songs and notes, and everything that reads, writes, caches and prepares them."""
