"""Word lists for the themed Java Faker expressions the Python faker library has no provider for."""

HARRY_POTTER_CHARACTERS = [
    "Harry Potter", "Hermione Granger", "Ron Weasley", "Albus Dumbledore", "Severus Snape", "Rubeus Hagrid",
    "Minerva McGonagall", "Draco Malfoy", "Lord Voldemort", "Sirius Black", "Remus Lupin", "Neville Longbottom",
    "Luna Lovegood", "Ginny Weasley", "Fred Weasley", "George Weasley", "Bellatrix Lestrange", "Dobby",
    "Cedric Diggory", "Cho Chang", "Dolores Umbridge", "Gilderoy Lockhart", "Lucius Malfoy", "Nymphadora Tonks",
    "Arthur Weasley", "Molly Weasley", "Peter Pettigrew", "Argus Filch", "Horace Slughorn", "Kingsley Shacklebolt",
]
HARRY_POTTER_SPELLS = [
    "Expelliarmus", "Expecto Patronum", "Wingardium Leviosa", "Lumos", "Nox", "Alohomora", "Accio",
    "Stupefy", "Petrificus Totalus", "Riddikulus", "Obliviate", "Protego", "Reparo", "Sectumsempra",
    "Avada Kedavra", "Crucio", "Imperio", "Incendio", "Aguamenti", "Confundo", "Engorgio", "Reducio",
    "Silencio", "Finite Incantatem", "Rictusempra", "Tarantallegra", "Levicorpus", "Muffliato",
]
HARRY_POTTER_LOCATIONS = [
    "Hogwarts School of Witchcraft and Wizardry", "Diagon Alley", "Knockturn Alley", "Hogsmeade",
    "The Burrow", "Number 4, Privet Drive", "Godric's Hollow", "Azkaban", "Gringotts Wizarding Bank",
    "The Leaky Cauldron", "Platform 9 3/4", "Ministry of Magic", "Forbidden Forest", "Shrieking Shack",
    "Malfoy Manor", "Number 12, Grimmauld Place", "St Mungo's Hospital for Magical Maladies and Injuries",
    "The Three Broomsticks", "Ollivanders", "Honeydukes",
]
HARRY_POTTER_HOUSES = ["Gryffindor", "Hufflepuff", "Ravenclaw", "Slytherin"]
HARRY_POTTER_QUOTES = [
    "It does not do to dwell on dreams and forget to live.",
    "After all this time? Always.",
    "I solemnly swear that I am up to no good.",
    "Mischief managed.",
    "It is our choices that show what we truly are, far more than our abilities.",
    "Happiness can be found, even in the darkest of times, if one only remembers to turn on the light.",
]
DR_WHO_DOCTORS = [
    "First Doctor", "Second Doctor", "Third Doctor", "Fourth Doctor", "Fifth Doctor", "Sixth Doctor",
    "Seventh Doctor", "Eighth Doctor", "War Doctor", "Ninth Doctor", "Tenth Doctor", "Eleventh Doctor",
    "Twelfth Doctor", "Thirteenth Doctor",
]
DR_WHO_CHARACTERS = [
    "Rose Tyler", "Martha Jones", "Donna Noble", "Amy Pond", "Rory Williams", "Clara Oswald", "River Song",
    "Captain Jack Harkness", "Sarah Jane Smith", "The Master", "Davros", "Bill Potts", "Yasmin Khan",
]
RICK_AND_MORTY_CHARACTERS = [
    "Rick Sanchez", "Morty Smith", "Summer Smith", "Beth Smith", "Jerry Smith", "Birdperson", "Squanchy",
    "Mr. Meeseeks", "Mr. Poopybutthole", "Evil Morty", "Unity", "Krombopulos Michael", "Scary Terry",
    "Abradolf Lincler", "Gearhead", "Noob-Noob", "Tammy Gueterman", "Pickle Rick", "Principal Vagina",
]
RICK_AND_MORTY_LOCATIONS = [
    "Earth (C-137)", "Citadel of Ricks", "Bird World", "Gazorpazorp", "Anatomy Park", "Interdimensional Cable",
    "Purge Planet", "Planet Squanch", "Galactic Federation Prison", "Blips and Chitz", "Dwarf Terrace-9",
    "Immortality Field Resort", "Cronenberg Earth", "Pluto",
]
NASA_SPACECRAFT = [
    "Apollo", "Gemini", "Mercury", "Skylab", "Space Shuttle Columbia", "Space Shuttle Challenger",
    "Space Shuttle Discovery", "Space Shuttle Atlantis", "Space Shuttle Endeavour", "Voyager 1", "Voyager 2",
    "Pioneer 10", "Cassini", "Galileo", "New Horizons", "Juno", "Orion", "Dragon", "Kepler", "Hubble",
]
STARS = [
    "Sun", "Sirius", "Canopus", "Arcturus", "Alpha Centauri A", "Vega", "Capella", "Rigel", "Procyon",
    "Betelgeuse", "Achernar", "Hadar", "Altair", "Aldebaran", "Antares", "Spica", "Pollux", "Fomalhaut",
    "Deneb", "Regulus", "Proxima Centauri", "Polaris",
]
PLANETS = ["Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"]
HHGTTG_CHARACTERS = [
    "Arthur Dent", "Ford Prefect", "Zaphod Beeblebrox", "Trillian", "Marvin", "Slartibartfast",
    "Deep Thought", "Eddie", "Prostetnic Vogon Jeltz", "Agrajag", "Fenchurch", "Random Dent",
    "Benjy mouse", "Frankie mouse", "Wonko the Sane", "Zarniwoop",
]
HHGTTG_STARSHIPS = [
    "Heart of Gold", "Bistromath", "Vogon Constructor Fleet", "Starship Titanic", "Krikkit One",
    "Golgafrinchan Ark Fleet Ship B", "Tanngrisnir",
]
HHGTTG_LOCATIONS = [
    "Earth", "Magrathea", "Milliways", "Betelgeuse", "Krikkit", "Vogsphere", "Ursa Minor Beta",
    "Frogstar World B", "Golgafrincham", "Lamuella", "Damogran", "Santraginus V",
]
SUPERHERO_PREFIXES = ["The", "Captain", "Doctor", "Mister", "Agent", "General", "Professor", "Giant", "Iron"]
SUPERHERO_DESCRIPTORS = [
    "Shadow", "Storm", "Thunder", "Silver", "Crimson", "Phantom", "Cosmic", "Atomic", "Mystic", "Steel",
    "Night", "Solar", "Quantum", "Venom", "Blaze", "Frost", "Magnetic", "Invisible",
]
SUPERHERO_SUFFIXES = ["Man", "Woman", "Girl", "Boy", "Knight", "Hawk", "Wolf", "Fist", "Claw", "Lord"]
SUPERHERO_POWERS = [
    "Flight", "Super Strength", "Invisibility", "Telepathy", "Telekinesis", "Super Speed", "Healing Factor",
    "Shape Shifting", "Time Travel", "Teleportation", "Energy Blasts", "X-Ray Vision", "Weather Control",
    "Force Field", "Intangibility", "Pyrokinesis",
]
PRODUCT_ADJECTIVES = [
    "Small", "Ergonomic", "Rustic", "Intelligent", "Gorgeous", "Incredible", "Fantastic", "Practical",
    "Sleek", "Awesome", "Enormous", "Mediocre", "Synergistic", "Heavy Duty", "Lightweight", "Durable",
]
PRODUCT_MATERIALS = [
    "Steel", "Wooden", "Concrete", "Plastic", "Cotton", "Granite", "Rubber", "Leather", "Silk", "Wool",
    "Linen", "Marble", "Iron", "Bronze", "Copper", "Aluminum", "Paper", "Glass",
]
PRODUCTS = [
    "Chair", "Car", "Computer", "Gloves", "Pants", "Shirt", "Table", "Shoes", "Hat", "Plate", "Knife",
    "Bottle", "Coat", "Lamp", "Keyboard", "Bag", "Bench", "Clock", "Watch", "Wallet",
]
DEPARTMENTS = [
    "Books", "Movies", "Music", "Games", "Electronics", "Computers", "Home", "Garden", "Tools", "Grocery",
    "Health", "Beauty", "Toys", "Kids", "Baby", "Clothing", "Shoes", "Jewelry", "Sports", "Outdoors",
    "Automotive", "Industrial",
]
