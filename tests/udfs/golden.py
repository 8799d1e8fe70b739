"""Python functions that run both in sqlstream and, to produce golden files, in PyFlink: the same bodies,
declared with whichever framework imports the module (sqlstream's decorators when PyFlink is absent)."""


def _band(amount):
    if amount is None:
        return None
    return "low" if amount < 100 else ("mid" if amount < 500 else "high")


def _scaled(quantity, factor):
    return None if quantity is None or factor is None else quantity * factor


def _split_words(s):
    for w in (s or "").split("-"):
        if w:
            yield w, len(w)


class _WeightedAvg:
    """SUM(value * weight) / SUM(weight) over rows where both are set; retractable."""

    def create_accumulator(self):
        return [0.0, 0]

    def accumulate(self, acc, value, weight):
        if value is not None and weight is not None:
            acc[0] += value * weight
            acc[1] += weight

    def retract(self, acc, value, weight):
        if value is not None and weight is not None:
            acc[0] -= value * weight
            acc[1] -= weight

    def get_value(self, acc):
        return acc[0] / acc[1] if acc[1] else None


try:
    from pyflink.table import DataTypes
    from pyflink.table.udf import AggregateFunction, udaf, udf, udtf
except ImportError:
    from sqlstream.core.udf import udaf, udf, udtf
    band = udf(result_type="STRING")(_band)
    scaled = udf(result_type="BIGINT")(_scaled)
    split_words = udtf(result_types=["STRING", "INT"])(_split_words)
    weighted_avg = udaf(result_type="DOUBLE")(_WeightedAvg)
else:
    band = udf(_band, result_type=DataTypes.STRING())
    scaled = udf(_scaled, result_type=DataTypes.BIGINT())
    split_words = udtf(_split_words, result_types=[DataTypes.STRING(), DataTypes.INT()])

    class _FlinkWeightedAvg(_WeightedAvg, AggregateFunction):
        def get_result_type(self):
            return DataTypes.DOUBLE()

        def get_accumulator_type(self):
            return DataTypes.ARRAY(DataTypes.DOUBLE())

    weighted_avg = udaf(_FlinkWeightedAvg())
