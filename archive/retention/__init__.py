"""Retention schedule, expiry appraisal, legal holds and disposal with crypto-shredding (保管期限, 到期鉴定, 销毁)."""
