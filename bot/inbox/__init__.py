"""The inbox: platform requests recorded before they are acknowledged, handled right after."""
