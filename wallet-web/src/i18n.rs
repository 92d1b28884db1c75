//! Interface text in English, Urdu (right to left) and Hindi.
//!
//! Plain words throughout: "Share with a doctor", not "create a grant". Every
//! text has all three languages with the same `{placeholders}` (a test checks),
//! and views name texts by [`T`], so a misspelt key does not compile. What the
//! wallet itself words for people (the audit log) comes worded from the server
//! in the reader's language.

pub use wallet_core::lang::Lang;

/// Declares the interface's text: each key becomes a variant of [`T`], so a
/// misspelt key does not compile, and its words in English, Urdu and Hindi
/// sit in one row of [`TEXT`], in the variants' order.
macro_rules! texts {
    ($($key:ident => ($en:expr, $ur:expr, $hi:expr $(,)?)),* $(,)?) => {
        /// A piece of interface text.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T {
            $(
                #[doc = $en]
                $key
            ),*
        }

        /// (English, Urdu, Hindi), indexed by [`T`].
        const TEXT: &[(&str, &str, &str)] = &[$(($en, $ur, $hi)),*];
    };
}

texts! {
    app => ("Amanat", "امانت", "अमानत"),
    tagline => ("Your health records, in your hands",
        "آپ کا صحت کا ریکارڈ، آپ کے ہاتھ میں",
        "आपके स्वास्थ्य रिकॉर्ड, आपके हाथ में",
    ),
    dashboard => ("Summary", "خلاصہ", "सारांश"),
    timeline => ("Records", "ریکارڈ", "रिकॉर्ड"),
    import => ("Add records", "ریکارڈ شامل کریں", "रिकॉर्ड जोड़ें"),
    share => ("Share with a doctor",
        "ڈاکٹر کو دکھائیں",
        "डॉक्टर से साझा करें",
    ),
    grants => ("Shared", "شیئر کیے گئے", "साझा किए गए"),
    audit => ("Activity", "سرگرمی", "गतिविधि"),
    plugins => ("Plugins", "پلگ اِنز", "प्लगइन"),
    settings => ("Settings", "ترتیبات", "सेटिंग्स"),
    receive => ("Open a share (doctors)",
        "شیئر کھولیں (ڈاکٹر)",
        "साझा खोलें (डॉक्टर)",
    ),
    lock => ("Lock", "تالا لگائیں", "लॉक करें"),
    unlock => ("Unlock", "کھولیں", "खोलें"),
    passphrase => ("Passphrase", "پاس فریز", "पासफ़्रेज़"),
    unlock_title => ("Your wallet is locked",
        "آپ کا والٹ بند ہے",
        "आपका वॉलेट लॉक है",
    ),
    create_title => ("Create your wallet",
        "اپنا والٹ بنائیں",
        "अपना वॉलेट बनाएं",
    ),
    create => ("Create wallet", "والٹ بنائیں", "वॉलेट बनाएं"),
    name => ("Full name", "پورا نام", "पूरा नाम"),
    birth_date => ("Birth date", "تاریخ پیدائش", "जन्म तिथि"),
    cnic => ("CNIC (Pakistan)", "شناختی کارڈ نمبر", "CNIC (पाकिस्तान)"),
    abha => ("ABHA number (India)",
        "ABHA نمبر (بھارت)",
        "आभा नंबर (भारत)",
    ),
    passphrase_hint => ("At least 8 characters. It cannot be recovered: several unrelated words are strong and easy to remember.",
        "کم از کم 8 حروف۔ یہ واپس نہیں مل سکتا: چند بے ربط الفاظ مضبوط اور یاد رکھنے میں آسان ہیں۔",
        "कम से कम 8 अक्षर। यह वापस नहीं मिल सकता: कुछ असंबंधित शब्द मज़बूत और याद रखने में आसान होते हैं।",
    ),
    profile => ("Whose records", "کس کا ریکارڈ", "किसके रिकॉर्ड"),
    problems => ("Health problems", "بیماریاں", "स्वास्थ्य समस्याएं"),
    allergies => ("Allergies", "الرجی", "एलर्जी"),
    medications => ("Medicines", "دوائیں", "दवाइयां"),
    immunizations => ("Vaccinations", "ویکسین", "टीकाकरण"),
    results => ("Latest test results",
        "تازہ ترین ٹیسٹ",
        "नवीनतम जांच परिणाम",
    ),
    vitals => ("Latest measurements", "تازہ ترین پیمائش", "नवीनतम माप"),
    none => ("None recorded", "کچھ درج نہیں", "कुछ दर्ज नहीं"),
    high => ("high", "زیادہ", "अधिक"),
    low => ("low", "کم", "कम"),
    normal => ("normal", "نارمل", "सामान्य"),
    normal_range => ("normal range", "نارمل حد", "सामान्य सीमा"),
    records_count => ("records", "ریکارڈ", "रिकॉर्ड"),
    n_records_one => ("{n} record", "{n} ریکارڈ", "{n} रिकॉर्ड"),
    n_records => ("{n} records", "{n} ریکارڈ", "{n} रिकॉर्ड"),
    search => ("Search", "تلاش", "खोजें"),
    record_type => ("Kind", "قسم", "प्रकार"),
    all => ("All", "سب", "सभी"),
    from => ("From", "سے", "से"),
    to => ("To", "تک", "तक"),
    date => ("Date", "تاریخ", "तारीख"),
    title => ("What", "کیا", "क्या"),
    delete => ("Delete", "حذف کریں", "हटाएं"),
    download_attachment => ("Download the attached file (it is not opened here)",
        "منسلک فائل ڈاؤن لوڈ کریں (یہ یہاں نہیں کھلتی)",
        "संलग्न फ़ाइल डाउनलोड करें (यह यहाँ नहीं खुलती)",
    ),
    back => ("Back", "واپس", "वापस"),
    written_by => ("Written by", "تحریر کردہ", "लिखने वाले"),
    facility => ("Facility", "ادارہ", "संस्था"),
    signed_by => ("✓ Signed by", "✓ دستخط:", "✓ हस्ताक्षर:"),
    signature_key => ("key", "کلید", "कुंजी"),
    from_a_file_about => ("⚠ From a file about", "⚠ اس فائل سے جو اس کے بارے میں تھی:", "⚠ इस व्यक्ति की फ़ाइल से:"),
    in_document => ("Part of the document", "اس دستاویز کا حصہ", "इस दस्तावेज़ का हिस्सा"),
    drop_here => ("Drop files here (FHIR JSON, PDF, JPEG, PNG, SMART Health Cards), or choose them",
        "فائلیں یہاں چھوڑیں یا منتخب کریں",
        "फ़ाइलें यहां छोड़ें या चुनें",
    ),
    choose_files => ("Choose files", "فائلیں منتخب کریں", "फ़ाइलें चुनें"),
    added => ("added", "شامل", "जोड़े गए"),
    already => ("already there", "پہلے سے موجود", "पहले से मौजूद"),
    what_to_share => ("What to share", "کیا دکھانا ہے", "क्या साझा करें"),
    the_summary => ("My summary (problems, allergies, medicines, vaccinations, latest results)",
        "میرا خلاصہ",
        "मेरा सारांश",
    ),
    lab_results => ("Lab results", "لیب کے نتائج", "लैब परिणाम"),
    prescriptions => ("Prescriptions", "نسخے", "पर्चे"),
    documents => ("Documents", "دستاویزات", "दस्तावेज़"),
    chosen => ("Records I chose", "منتخب ریکارڈ", "चुने हुए रिकॉर्ड"),
    with_whom => ("With whom", "کس کے ساتھ", "किसके साथ"),
    anyone_with_code => ("Whoever I show the code to",
        "جسے میں کوڈ دکھاؤں",
        "जिसे मैं कोड दिखाऊं",
    ),
    a_doctor => ("A doctor (paste their card)",
        "ایک ڈاکٹر (ان کا کارڈ)",
        "एक डॉक्टर (उनका कार्ड)",
    ),
    why => ("Why", "کیوں", "क्यों"),
    how_long => ("For how long", "کتنی دیر کے لیے", "कितनी देर के लिए"),
    how => ("How", "کیسے", "कैसे"),
    in_qr => ("Inside the QR code (no internet needed)",
        "کیو آر کوڈ کے اندر (انٹرنیٹ کی ضرورت نہیں)",
        "क्यूआर कोड के अंदर (इंटरनेट की ज़रूरत नहीं)",
    ),
    via_relay => ("Through a relay (can be taken back)",
        "ریلے کے ذریعے (واپس لیا جا سکتا ہے)",
        "रिले के ज़रिए (वापस लिया जा सकता है)",
    ),
    create_share => ("Create the code", "کوڈ بنائیں", "कोड बनाएं"),
    expires_in => ("Expires in", "ختم ہونے میں", "समाप्त होने में"),
    expired => ("Expired", "ختم", "समाप्त"),
    revoke => ("Take back", "واپس لیں", "वापस लें"),
    status => ("Status", "حالت", "स्थिति"),
    uses => ("Opened", "کھولا گیا", "खोला गया"),
    verify => ("Check the log", "لاگ کی جانچ", "लॉग जांचें"),
    who => ("Who", "کون", "कौन"),
    when => ("When", "کب", "कब"),
    paste_link => ("Paste the link from the patient's code",
        "مریض کے کوڈ کا لنک یہاں لگائیں",
        "मरीज़ के कोड का लिंक चिपकाएं",
    ),
    open_share => ("Open and verify",
        "کھولیں اور تصدیق کریں",
        "खोलें और सत्यापित करें",
    ),
    qr_photo => ("Photo of the QR code",
        "کیو آر کوڈ کی تصویر",
        "क्यूआर कोड की फ़ोटो",
    ),
    camera => ("Use the camera", "کیمرا استعمال کریں", "कैमरा इस्तेमाल करें"),
    verified => ("Verified: signed by the patient's wallet, nothing changed",
        "تصدیق شدہ: مریض کے والٹ کے دستخط، کچھ تبدیل نہیں ہوا",
        "सत्यापित: मरीज़ के वॉलेट के हस्ताक्षर, कुछ नहीं बदला",
    ),
    needs_passcode => ("This share is locked with a passcode: ask the patient for it.",
        "یہ شیئر پاس کوڈ سے بند ہے: مریض سے پوچھیں۔",
        "यह साझा पासकोड से बंद है: मरीज़ से पूछें।",
    ),
    passcode => ("Passcode", "پاس کوڈ", "पासकोड"),
    viewer_setting => ("Where share codes open", "شیئر کوڈ کہاں کھلیں", "साझा कोड कहां खुलें"),
    viewer_hint => ("A doctor's phone opens offline share codes here: an Amanat relay's address.",
        "ڈاکٹر کا فون آف لائن شیئر کوڈ یہاں کھولتا ہے: امانت ریلے کا پتہ۔",
        "डॉक्टर का फ़ोन ऑफ़लाइन साझा कोड यहां खोलता है: अमानत रिले का पता।",
    ),
    viewer_address => ("Viewer address", "ویوور کا پتہ", "व्यूअर का पता"),
    save_setting => ("Save", "محفوظ کریں", "सहेजें"),
    saved => ("Saved.", "محفوظ ہو گیا۔", "सहेजा गया।"),
    whoever_holds => ("whoever holds the code", "جس کے پاس کوڈ ہو", "जिसके पास कोड हो"),
    may_keep => ("may keep a copy", "کاپی رکھ سکتے ہیں", "प्रति रख सकते हैं"),
    view_only => ("view only", "صرف دیکھنے کے لیے", "केवल देखने के लिए"),
    purpose => ("Purpose", "مقصد", "उद्देश्य"),
    access => ("Access", "رسائی", "पहुंच"),
    shared_with => ("For", "کس کے لیے", "किसके लिए"),
    n_signed_one => ("{n} record, matching the patient's signature.",
        "{n} ریکارڈ، مریض کے دستخط کے مطابق۔",
        "{n} रिकॉर्ड, मरीज़ के हस्ताक्षर से मेल खाता।",
    ),
    n_signed => ("{n} records, each matching the patient's signature.",
        "{n} ریکارڈ، ہر ایک مریض کے دستخط کے مطابق۔",
        "{n} रिकॉर्ड, हर एक मरीज़ के हस्ताक्षर से मेल खाता।",
    ),
    refused => ("Refused", "مسترد", "अस्वीकृत"),
    valid_until_label => ("Valid until", "کب تک درست", "कब तक मान्य"),
    run => ("Run", "چلائیں", "चलाएं"),
    save => ("Save to my wallet", "والٹ میں محفوظ کریں", "वॉलेट में सहेजें"),
    discard => ("Discard", "رد کریں", "छोड़ें"),
    allowed_to => ("Allowed to", "اجازت", "अनुमति"),
    change_passphrase => ("Change passphrase",
        "پاس فریز تبدیل کریں",
        "पासफ़्रेज़ बदलें",
    ),
    current => ("Current", "موجودہ", "मौजूदा"),
    new => ("New", "نیا", "नया"),
    backup => ("Download a backup",
        "بیک اپ ڈاؤن لوڈ کریں",
        "बैकअप डाउनलोड करें",
    ),
    backup_hint => ("An encrypted file any age tool can open with this passphrase.",
        "ایک خفیہ فائل جو اس پاس فریز سے کھلتی ہے۔",
        "एक एन्क्रिप्टेड फ़ाइल जो इस पासफ़्रेज़ से खुलती है।",
    ),
    language => ("Language", "زبان", "भाषा"),
    add_family => ("Add a family member",
        "خاندان کا فرد شامل کریں",
        "परिवार का सदस्य जोड़ें",
    ),
    add => ("Add", "شامل کریں", "जोड़ें"),
    add_reading => ("Add a reading", "ریڈنگ درج کریں", "रीडिंग दर्ज करें"),
    print => ("Print for a doctor", "ڈاکٹر کے لیے پرنٹ کریں", "डॉक्टर के लिए प्रिंट करें"),
    print_hint => ("One A4 page in this language and English, with a QR code that opens these records, signed by you. Give a relay address to be able to take the code back; without one, the records are inside the code.",
        "اس زبان اور انگریزی میں ایک A4 صفحہ، ایک QR کوڈ کے ساتھ جو آپ کے دستخط سے یہی ریکارڈ کھولتا ہے۔ کوڈ واپس لینے کے لیے ریلے کا پتہ دیں؛ اس کے بغیر ریکارڈ کوڈ کے اندر ہوں گے۔",
        "इस भाषा और अंग्रेज़ी में एक A4 पेज, एक QR कोड के साथ जो आपके हस्ताक्षर से यही रिकॉर्ड खोलता है। कोड वापस लेने के लिए रिले का पता दें; उसके बिना रिकॉर्ड कोड के अंदर होंगे।",
    ),
    make_pdf => ("Make the PDF", "PDF بنائیں", "PDF बनाएँ"),
    open_pdf => ("Open the PDF to print", "پرنٹ کے لیے PDF کھولیں", "प्रिंट के लिए PDF खोलें"),
    save_pdf => ("Save it", "محفوظ کریں", "सहेजें"),
    import_anyway => ("Import anyway: these records are this person's",
        "پھر بھی شامل کریں: یہ ریکارڈ اسی شخص کے ہیں",
        "फिर भी जोड़ें: ये रिकॉर्ड इसी व्यक्ति के हैं",
    ),
    fill_offer => ("This profile has no details yet. The file is about",
        "اس پروفائل میں ابھی کوئی تفصیل نہیں۔ یہ فائل اس کے بارے میں ہے:",
        "इस प्रोफ़ाइल में अभी कोई विवरण नहीं। यह फ़ाइल इनके बारे में है:",
    ),
    save_anyway => ("Save anyway: they are this person's", "پھر بھی محفوظ کریں: یہ اسی شخص کے ہیں", "फिर भी सहेजें: ये इसी व्यक्ति के हैं"),
    fill_profile => ("Fill the profile with these details", "پروفائل میں یہ تفصیل بھریں", "प्रोफ़ाइल में यह विवरण भरें"),
    profile_filled => ("Profile filled", "پروفائل بھر دیا", "प्रोफ़ाइल भर दी"),
    emergency_card => ("Emergency card", "ہنگامی کارڈ", "आपातकालीन कार्ड"),
    emergency_hint => ("For whoever helps you in an emergency: your blood group, allergies, conditions, medicines and people to call, readable with no app, and a QR code that opens those records for a year. Every opening is logged here.",
        "ہنگامی حالت میں مدد کرنے والے کے لیے: آپ کا بلڈ گروپ، الرجی، بیماریاں، دوائیں اور جن سے رابطہ کیا جائے، بغیر کسی ایپ کے پڑھنے کے قابل، اور ایک QR کوڈ جو یہ ریکارڈ ایک سال تک کھولتا ہے۔ ہر بار کھولنا یہاں درج ہوتا ہے۔",
        "आपातकाल में मदद करने वाले के लिए: आपका रक्त समूह, एलर्जी, बीमारियाँ, दवाइयाँ और जिन्हें फ़ोन करना है, बिना किसी ऐप के पढ़ने योग्य, और एक QR कोड जो ये रिकॉर्ड एक साल तक खोलता है। हर बार खोला जाना यहाँ दर्ज होता है।",
    ),
    no_card => ("No emergency card yet.", "ابھی کوئی ہنگامی کارڈ نہیں۔", "अभी कोई आपातकालीन कार्ड नहीं।"),
    blood_group => ("Blood group", "بلڈ گروپ", "रक्त समूह"),
    not_recorded => ("not recorded", "درج نہیں", "दर्ज नहीं"),
    people_to_call => ("People to call", "جن سے رابطہ کریں", "जिन्हें फ़ोन करें"),
    contacts_hint => ("One a line, e.g. Bilal Siddiqui (husband) +92 300 1234567. Left empty, a renewal keeps the card's.",
        "ہر سطر میں ایک، مثلاً بلال صدیقی (شوہر) ‎+92 300 1234567۔ خالی چھوڑیں تو نیا کارڈ پرانے والے رکھے گا۔",
        "हर पंक्ति में एक, जैसे बिलाल सिद्दीक़ी (पति) +92 300 1234567। ख़ाली छोड़ें तो नया कार्ड पुराने वाले रखेगा।",
    ),
    make_card => ("Make the card (or renew it)", "کارڈ بنائیں (یا نیا کریں)", "कार्ड बनाएँ (या नया करें)"),
    card_made => ("The card is ready; the card before, if any, no longer opens.",
        "کارڈ تیار ہے؛ پہلے والا کارڈ، اگر تھا، اب نہیں کھلتا۔",
        "कार्ड तैयार है; पहले वाला कार्ड, अगर था, अब नहीं खुलता।",
    ),
    card_revoked => ("Taken back: its QR code opens nothing from now on.",
        "واپس لے لیا: اب اس کا QR کوڈ کچھ نہیں کھولتا۔",
        "वापस ले लिया: अब इसका QR कोड कुछ नहीं खोलता।",
    ),
    opened_at => ("Opened", "کھولا گیا", "खोला गया"),
    not_opened => ("Not opened yet.", "ابھی تک نہیں کھولا گیا۔", "अभी तक नहीं खोला गया।"),
    reading_bp => ("Blood pressure", "بلڈ پریشر", "रक्तचाप"),
    reading_glucose => ("Sugar", "شوگر", "शुगर"),
    reading_weight => ("Weight", "وزن", "वज़न"),
    reading_hba1c => ("HbA1c", "HbA1c", "HbA1c"),
    reading_temperature => ("Temperature", "بخار", "तापमान"),
    reading_spo2 => ("Oxygen", "آکسیجن", "ऑक्सीजन"),
    reading_pulse => ("Pulse", "نبض", "नब्ज़"),
    fasting => ("Fasting (before breakfast)", "نہار منہ (ناشتے سے پہلے)", "ख़ाली पेट (नाश्ते से पहले)"),
    reading_value => ("Reading", "ریڈنگ", "रीडिंग"),
    diastolic => ("Diastolic (lower)", "نیچے والا (ڈائسٹولک)", "नीचे वाला (डायस्टोलिक)"),
    unit => ("Unit", "اکائی", "इकाई"),
    save_reading => ("Save reading", "ریڈنگ محفوظ کریں", "रीडिंग सहेजें"),
    see_trend => ("see the chart", "چارٹ دیکھیں", "चार्ट देखें"),
    wallet_id => ("Wallet ID", "والٹ آئی ڈی", "वॉलेट आईडी"),
    loading => ("Loading…", "لوڈ ہو رہا ہے…", "लोड हो रहा है…"),
    select => ("Choose", "منتخب کریں", "चुनें"),
    relay_address => ("Relay address", "ریلے کا پتہ", "रिले का पता"),
    max_uses => ("Can be opened at most (times)",
        "زیادہ سے زیادہ کتنی بار کھولا جا سکے",
        "अधिकतम कितनी बार खोला जा सके",
    ),
    doctor_card => ("The doctor's card",
        "ڈاکٹر کا کارڈ",
        "डॉक्टर का कार्ड",
    ),
    share_link => ("The link in the code",
        "کوڈ میں موجود لنک",
        "कोड में मौजूद लिंक",
    ),
    relationship => ("Relationship", "رشتہ", "रिश्ता"),
    record_ids => ("Record ids", "ریکارڈ آئی ڈیز", "रिकॉर्ड आईडी"),
    file => ("File", "فائل", "फ़ाइल"),
    dur_1h => ("1 hour", "1 گھنٹہ", "1 घंटा"),
    dur_24h => ("24 hours", "24 گھنٹے", "24 घंटे"),
    dur_7d => ("7 days", "7 دن", "7 दिन"),
    dur_30d => ("30 days", "30 دن", "30 दिन"),
    dur_1y => ("1 year", "1 سال", "1 साल"),
    why_CAREMGT => ("treatment", "علاج", "इलाज"),
    why_BTG => ("an emergency", "ایمرجنسی", "आपातकाल"),
    why_HPAYMT => ("an insurance claim", "انشورنس کلیم", "बीमा दावा"),
    why_PUBHLTH => ("public health", "صحت عامہ", "जन स्वास्थ्य"),
    why_DSRCH => ("research", "تحقیق", "शोध"),
    why_PATRQT => ("my own copy", "میری اپنی کاپی", "मेरी अपनी प्रति"),
    whom_anyone => ("whoever I show the code to",
        "جسے بھی میں کوڈ دکھاؤں",
        "जिसे भी मैं कोड दिखाऊं",
    ),
    whom_doctor => ("the doctor whose card I gave",
        "وہ ڈاکٹر جن کا کارڈ میں نے دیا",
        "वह डॉक्टर जिनका कार्ड मैंने दिया",
    ),
    // Whole-sentence templates: word order differs between the languages.
    share_sentence => ("Share {what} with {whom}, for {why}, for {long}.",
        "{what} شیئر کریں۔ کس کے ساتھ: {whom}۔ مقصد: {why}۔ مدت: {long}۔",
        "{what} साझा करें। किसके साथ: {whom}। उद्देश्य: {why}। अवधि: {long}।",
    ),
    audit_intact_one => ("Intact: {n} entry, every link of the chain verified.",
        "محفوظ: {n} اندراج، زنجیر کی ہر کڑی کی تصدیق ہو گئی۔",
        "सुरक्षित: {n} प्रविष्टि, श्रृंखला की हर कड़ी सत्यापित।",
    ),
    audit_intact => ("Intact: {n} entries, every link of the chain verified.",
        "محفوظ: {n} اندراجات، زنجیر کی ہر کڑی کی تصدیق ہو گئی۔",
        "सुरक्षित: {n} प्रविष्टियाँ, श्रृंखला की हर कड़ी सत्यापित।",
    ),
    shared_one => ("{n} record shared.",
        "{n} ریکارڈ شیئر ہوا۔",
        "{n} रिकॉर्ड साझा हुआ।",
    ),
    shared_n => ("{n} records shared.",
        "{n} ریکارڈ شیئر ہوئے۔",
        "{n} रिकॉर्ड साझा हुए।",
    ),
}

/// The text for `key` in `lang`.
pub fn t(lang: Lang, key: T) -> &'static str {
    let (en, ur, hi) = TEXT[key as usize];
    lang.pick(en, ur, hi)
}

/// The text for a count: `one` or `other` as CLDR's plural rules for `lang`
/// want for `n` (English and Urdu: exactly 1 is "one"; Hindi: 0 and 1), with
/// `{n}` filled in.
pub fn count(lang: Lang, n: usize, one: T, other: T) -> String {
    let singular = match lang {
        Lang::Hi => n <= 1,
        Lang::En | Lang::Ur => n == 1,
    };
    t(lang, if singular { one } else { other }).replace("{n}", &n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_each_languages_plural_form() {
        let records = |lang, n| count(lang, n, T::n_records_one, T::n_records);
        assert_eq!(records(Lang::En, 1), "1 record");
        assert_eq!(records(Lang::En, 0), "0 records");
        assert_eq!(records(Lang::En, 240), "240 records");
        let shared = |lang, n| count(lang, n, T::shared_one, T::shared_n);
        assert_eq!(shared(Lang::Hi, 0), "0 रिकॉर्ड साझा हुआ।");
        assert_eq!(shared(Lang::Hi, 2), "2 रिकॉर्ड साझा हुए।");
        assert_eq!(shared(Lang::Ur, 1), "1 ریکارڈ شیئر ہوا۔");
        assert_eq!(shared(Lang::Ur, 3), "3 ریکارڈ شیئر ہوئے۔");
    }

    #[test]
    fn every_text_is_translated_with_the_same_placeholders() {
        fn fields(t: &str) -> Vec<&str> {
            let mut f: Vec<&str> = t.split('{').skip(1).filter_map(|x| x.split('}').next()).collect();
            f.sort_unstable();
            f
        }
        for (i, (en, ur, hi)) in TEXT.iter().enumerate() {
            assert!(
                !en.is_empty() && !ur.is_empty() && !hi.is_empty(),
                "row {i}: {en}"
            );
            assert_eq!(
                (fields(en), fields(en)),
                (fields(ur), fields(hi)),
                "row {i}: {en}"
            );
        }
        assert_eq!(t(Lang::Ur, T::share), "ڈاکٹر کو دکھائیں");
    }
}
