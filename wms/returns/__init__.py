"""Returns from every channel: requested online or at a store counter, taken in by scanning, graded, then put
back to stock, quarantined or scrapped."""
