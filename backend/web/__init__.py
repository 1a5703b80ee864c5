"""Static pages the hub serves (the /feed wall screen)."""
