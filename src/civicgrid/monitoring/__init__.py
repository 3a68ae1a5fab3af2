"""Environmental monitoring (SPEC §10): HJ 212 stations, readings, AQI, water
class, exceedances as cases."""
