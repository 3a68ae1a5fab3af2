"""The web pages of the closed loop: citizens, inspectors, command center, departments, leaders, admins."""

from civicgrid.domains import Domain, NavItem, WallPanel

WALL = "civicgrid.analytics.wall"  # the data of the wall screen's core panels
STAFF_CENTER = frozenset({"operator", "shift_lead", "dispatcher", "admin"})

DOMAIN = Domain(
    name="web",
    label="网页界面",
    api=("civicgrid.web.routes",),  # /static, the web error renderer, security headers
    pages=tuple(
        f"civicgrid.web.{m}:router"
        for m in (
            "views_auth",
            "views_citizen",
            "views_inspector",
            "views_case",
            "views_center",
            "views_dept",
            "views_api",
            "views_leader",
            "views_admin",
            "views_admin_accounts",
            "views_inbox",
            "views_outbox",
            "views_map",
            "views_wall",
            "views_batch",
            "views_export",
            "views_print",
        )
    ),
    nav=(
        NavItem("/center", "指挥中心", STAFF_CENTER, order=10),
        NavItem("/dept", "部门工作台", frozenset({"handler"}), order=20),
        NavItem("/inspector", "我的任务", frozenset({"inspector"}), order=30),
        NavItem("/leader", "领导驾驶舱", frozenset({"leader"}), order=40),
        NavItem("/center", "案卷查询", frozenset({"leader"}), order=41),
        NavItem("/admin", "系统管理", frozenset({"admin"}), order=90),
        NavItem("/report", "我要上报", frozenset({"citizen", "anonymous"}), order=60),
        NavItem("/track", "进度查询", frozenset({"citizen", "anonymous"}), order=61),
        NavItem("/map", "问题地图", frozenset({"citizen", "anonymous"}), order=62),
        NavItem("/wall", "大屏", frozenset({"leader", "shift_lead", "operator", "admin"}), order=45),
    ),
    web_prefixes=(
        "/login",
        "/logout",
        "/report",
        "/track",
        "/inspector",
        "/center",
        "/cases",
        "/dept",
        "/web",
        "/leader",
        "/admin",
        "/inbox",
        "/static",
        "/map",
        "/wall",
    ),
    # The wall screen's rotating panels (web/views_wall.py); other domains add theirs the same way.
    wall_panels=(
        WallPanel("overdue", "超期案卷", "wall/panel_overdue.html", f"{WALL}:overdue_panel", order=10),
        WallPanel("rankings", "排行", "wall/panel_rankings.html", f"{WALL}:rankings_panel", order=20),
    ),
)
