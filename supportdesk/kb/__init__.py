"""The knowledge base: articles the desk writes and employees read before (or instead of) a ticket."""
