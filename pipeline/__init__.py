"""Evidence-based fact-checker for Dutch claims about ketamine.

    from pipeline import FactChecker
    fc = FactChecker.from_config()
    fc.check("Microdoseren met K geneest depressie")
"""
from .checker import CheckResult, ClaimResult, Evidence, FactChecker
from .errors import FactCheckError

__all__ = ["FactChecker", "CheckResult", "ClaimResult", "Evidence", "FactCheckError"]
__version__ = "0.1.0"
