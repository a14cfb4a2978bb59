DASHBOARD_NAV = [("Data requests", "privacy:requests")]
