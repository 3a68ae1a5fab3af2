"""The web pages of the closed loop: citizens, inspectors, command center, departments, leaders, admins."""

from civicgrid.domains import Domain, NavItem

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
    ),
)
