"""Bianmin (便民): service-centre platform for the Fourth Division and its centres."""
