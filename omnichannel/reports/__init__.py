"""Reports: the figures a Pemda is judged by (``figures``, SQL aggregates in ``queries``), their renderings
(``render``, ``ppid``), the command (``cli``) and the weekly digest (``digest``)."""
