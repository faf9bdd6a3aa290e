"""Development stand-in for xiaoer's upstream systems: IM gateway, human agents, trade system."""
