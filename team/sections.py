DASHBOARD_NAV = [("Team", "team:members")]
