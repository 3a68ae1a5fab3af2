"""The environmental monitoring domain (SPEC §10): HJ 212 packets, AQI and water class."""

from civicgrid.domains import Domain, Job, NavItem, Service, WallPanel

# Who sees the station pages (all staff may open them; only an admin changes stations).
STAFF_PAGES = ("operator", "shift_lead", "dispatcher", "leader", "admin")

DOMAIN = Domain(
    name="monitoring",
    label="环境监测",
    # rankings first: /stations/rankings must not be taken for the station "rankings" of /stations/{mn}
    # /stations/rules too (api_rules): mounted before api's /stations/{mn}
    api=(
        "civicgrid.monitoring.api_rankings:router",
        "civicgrid.monitoring.api_rules:router",
        "civicgrid.monitoring.api:router",
    ),
    commands=(
        "civicgrid.monitoring.cli",
        "civicgrid.monitoring.cli_simulate",
        "civicgrid.monitoring.cli_rules",
        "civicgrid.monitoring.cli_stations",
        "civicgrid.monitoring.cli_rank",
        "civicgrid.monitoring.cli_mqtt",
    ),
    # /stations (map and table), /stations/{mn}, /stations/import, /stations/rankings
    pages=("civicgrid.monitoring.pages:router",),
    templates=("civicgrid.monitoring:templates",),
    nav=(NavItem("/stations", "环境监测", frozenset(STAFF_PAGES), order=46),),
    web_prefixes=("/stations",),
    services=(
        Service("hj212", "HJ 212 数据接收（TCP）", "civicgrid.monitoring.service:run"),
        Service("mqtt", "MQTT 数据接收", "civicgrid.monitoring.mqtt:run"),
        # the demo's simulated stations (idle unless CIVICGRID_MONITORING_SIMULATE=true)
        Service("station-simulator", "监测站点模拟器（演示）", "civicgrid.monitoring.simulate:run"),
    ),
    settings=("civicgrid.monitoring.settings:MonitoringSettings",),
    # the wall screen (/wall): current AQI of the air stations, worst first (monitoring/wall.py)
    wall_panels=(
        WallPanel("air", "空气质量", "wall/panel_air.html", "civicgrid.monitoring.wall:air_panel", order=30),
    ),
    jobs=(
        Job(
            "station-aggregate",
            "汇总监测数据（小时、日均值与指数），归档过期的分钟数据",
            "civicgrid.monitoring.aggregate:run_job",
            60,  # a beat: the job works every CIVICGRID_MONITORING_AGGREGATE_INTERVAL_S (0 = off)
        ),
        Job(
            "station-silence",
            "检查监测站点断线（连续 3 个上报周期无数据即开设备异常案卷）",
            "civicgrid.monitoring.alarms:silence_job",
            60.0,
        ),
    ),
    # an episode ends when its case is closed; a sensor case's detail names its station (MN)
    subscribers=(("case", "civicgrid.monitoring.alarms:on_case_event"),),
    extra={
        "case_detail": ("civicgrid.monitoring.alarms:case_station",),
        "event_labels": {"sensor_note": "监测提示"},  # a station's later exceedance or recovery, on its case
    },
)
