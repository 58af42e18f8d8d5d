"""The dossier (hồ sơ): its model and codes, the rules shared with the back office, working days.

model.py        ``DossierSubmission`` (applicant, declaration, attachments), results, status,
                dossier codes of Thông tư 01/2018/TT-VPCP
rules.py        ``dossier_problems`` and status ``TRANSITIONS``, applied by the back office too
workdays.py     the holiday calendar and the appointment date in working days
"""
